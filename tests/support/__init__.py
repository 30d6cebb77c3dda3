"""What the tests share: paths, pages, processes, sockets, the built site, marks, and the
catalog of snippets. Test modules import from here; tests/conftest.py holds the fixtures."""
