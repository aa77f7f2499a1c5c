# report unit tests
