"""kiemthu: integration-test harness for online public services on Cổng DVCQG."""

__version__ = "0.1.0"
