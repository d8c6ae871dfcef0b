-- The leaderboard groups episodes by agent across runs.
CREATE INDEX episodes_by_agent ON episodes(agent, run_path);
