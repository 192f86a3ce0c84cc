// QuellCLI module
