"""`hub simulate`: realistic channel traffic through the four fake channels into a running hub, measured.

``channels`` (the fakes as a set, citizens, posting in wire formats), ``traffic`` (who writes what where),
``server`` (the API with its embedded worker in this process), ``department`` (staff answering over GraphQL),
``faults`` (what goes wrong for a while), ``probe`` (answer commit times), ``runner`` and ``report``.
"""
