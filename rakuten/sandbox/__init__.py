"""A stateful fake of Rakuten RMS, served over HTTP on loopback for the demo and the tests."""
