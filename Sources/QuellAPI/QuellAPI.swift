// QuellAPI module
