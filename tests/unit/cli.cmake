# cli unit tests
