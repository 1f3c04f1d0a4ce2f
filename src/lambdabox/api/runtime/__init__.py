"""The Lambda Runtime API (/2018-06-01/runtime/...): the one seam between platform and runtimes."""
