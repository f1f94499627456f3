// Every module above the token format shares its bottom support (Hex, strict JSON, owner-only
// files, coded errors) through it.
@_exported import STSSupport
