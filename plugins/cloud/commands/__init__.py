"""The Viam CLI's cloud commands, run against any Viam app (a ``viamlite fleet`` or Viam's).

A command tree over one app client, as the GitHub CLI is: each command group is a module
whose functions take a :class:`~.context.Context` and return the exit code; they parse
nothing (:mod:`viamlite_plugins.cloud.options` holds the flags), call the app and print.

The framework, for every group (``data`` and ``dataset`` build on it too):

* :mod:`.cache`: the login, ``$VIAMLITE_HOME/cli.json`` (0600, in a 0700 folder), and the
  base URL it belongs to;
* :mod:`.app`: the app dialed with the logged-in key (TLS, or plaintext for ``http://``),
  calls by method name, gRPC failures as one-line :class:`~.errors.CommandError`\\ s;
* :mod:`.resolve`: organizations, locations, machines and parts by name or id, an empty
  flag meaning the only or the first one, as the Viam CLI does;
* :mod:`.output`: text for people, ``--json`` for scripts, times and messages as JSON;
* :mod:`.context`: what a command gets (its flags, the login, the app, the resolver, output);
* :mod:`.runner`: runs a command: exit codes 0/1/2, one line per error unless ``--debug``.
"""
