"""AgentMux Companion: moves legacy AI-CLI logins into AgentMux's Default identity bundle."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agentmux-companion")
except PackageNotFoundError:  # running from a source tree or a frozen build without metadata
    __version__ = "0.1.0"
