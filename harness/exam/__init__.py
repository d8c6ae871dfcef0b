"""People as the agent: `deesc play` at the terminal and the exam server in the browser
(trainer and candidate pages, sessions, attempts)."""
