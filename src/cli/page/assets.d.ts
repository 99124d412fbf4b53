/**
 * `import text from './file?raw'`: a file's contents as a string, read at build time (tsup's
 * raw-text plugin in tsup.config.ts; Vite and Vitest read the same suffix natively).
 */
declare module '*?raw' {
  const text: string
  export default text
}
