"""The master index store: tables, migrations, and the functions that read and write them."""
