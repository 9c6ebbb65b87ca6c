"""tests/embedding: MockServer, Control and the pytest plugin, used as a consumer project would.

consumer/ is a sample consumer's test suite, run by test_plugin.py in its own pytest process (it has its own
pytest.ini and no conftest): this run must not collect it.
"""

collect_ignore = ["consumer"]
