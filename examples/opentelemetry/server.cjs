const http = require('node:http')

const server = http.createServer((req, res) => res.end('ok'))
server.listen(Number(process.env.PORT ?? 6989), '127.0.0.1', () => console.error('listening'))
