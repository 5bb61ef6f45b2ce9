"""AgentMux Companion: moves legacy AI-CLI logins into AgentMux's Default identity bundle."""

# Written here rather than read through importlib.metadata, which costs the CLI ~60 ms of start-up
# and needs package metadata that frozen builds lack. tests/test_layers.py keeps it equal to the
# version in pyproject.toml.
__version__ = "0.1.0"
