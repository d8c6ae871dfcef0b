"""Persona, rubric and exam files read into frozen dataclasses; persona packs, tables,
templates and the check that a persona tells a good agent from a bad one."""
