from usertest.cli import entrypoint

entrypoint()
