// QuellTerminal module
