// The batch format is JSON lines: its readers and writers come with it.
@_exported import STSSupport
