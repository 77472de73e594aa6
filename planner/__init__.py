"""Planning and running tools: the sandbox runner, retrieval and repair."""
