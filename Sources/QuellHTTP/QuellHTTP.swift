// QuellHTTP module
