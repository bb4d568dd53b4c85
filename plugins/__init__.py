"""viamlite's bundled plugins, installed as the ``viamlite_plugins`` package."""
