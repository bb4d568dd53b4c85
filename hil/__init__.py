"""Hardware in the loop: rig files, the pytest plugin and the scenarios that run on every rig."""
