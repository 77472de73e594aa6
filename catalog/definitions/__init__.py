"""The tool definition format and its checks: defaults, hashing, diffs and semver; the
definition's JSON Schema; validation by field path; estimate expressions; inputs read from a
script's main(); data Quiver can store and show."""
