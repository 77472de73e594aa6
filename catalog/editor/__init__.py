"""The tool editor page: its forms, the form state (posted rows <-> a definition), the
services' errors placed next to their fields, and the live checks the page calls."""
