r"""The layer that joins the crawler and the archive: the command line, reparse, import, serve.

    ciudadano  ->  crawler  ->  archive
        \------------------------^

`archive` imports neither of the others; `crawler` writes through `archive`; this package
uses both. tests/test_layers.py checks the contract.
"""
