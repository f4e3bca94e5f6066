"""The `raytool` commands, one module per command group; each `register(sub)`s its parser(s) and holds its
handlers. `raytool.cli` builds the parser from them."""
