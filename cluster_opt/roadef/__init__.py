"""ROADEF/EURO 2012 machine reassignment: parser, exact checker, adapter to our Problem."""
