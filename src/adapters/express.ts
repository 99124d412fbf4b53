// Filled in by the adapters work (issue 4).
export {}
