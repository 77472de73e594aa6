"""Definition files in and out: YAML and JSON files, uploads (zips included), and tool
definitions written for other systems (OpenAI, MCP, Anthropic)."""
