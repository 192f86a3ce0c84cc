import QuellCLI
