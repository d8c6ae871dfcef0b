"""What runs become: the eval_runs/ store, summaries with intervals, comparisons, the
leaderboard index, the report, exports and terminal tables."""
