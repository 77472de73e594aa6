"""Tests of the planner: the sandbox runner."""
