"""Pure decoding of WebAssembly component binaries, shared by the stages that read them:
the component connector (to run a component) and the WIT front-end (to read WIT packages
encoded as components).  Nothing here runs or validates code; it only decodes bytes into
small trees, and every malformed input becomes a coded `DiagnosticError`."""
