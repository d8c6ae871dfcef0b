"""The exam server: trainers hand out codes, candidates take exams in the browser."""
