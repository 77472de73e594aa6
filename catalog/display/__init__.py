"""What the catalog's pages show: a definition in words, what needs attention, word diffs,
and the slots other apps fill on a tool's page."""
