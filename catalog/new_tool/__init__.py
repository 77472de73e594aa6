"""The ``new_tool`` wizard: the prompter and its answer readers, each platform's starter
(YAML files in starters/), and the questions that make a definition and save it."""
