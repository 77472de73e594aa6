"""Tools for LLMs: definitions in the shapes LLM APIs expect, the export agents read, and
retrieval of the tools that fit a request."""
