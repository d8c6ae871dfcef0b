"""The simulated customer: its emotional state, its lines, its faults, and the episode loop
that runs one conversation (stepped from outside for a person as the agent)."""
