# mxprobe: node:20-slim, production dependencies only in the final image.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY routes ./routes
COPY public ./public
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts ./scripts
COPY --from=build /app/web ./web
USER node
EXPOSE 3000
# `npm start` would run the prestart build check; the image is already built.
# node as PID 1 receives SIGTERM directly (graceful shutdown in src/server.ts).
CMD ["node", "dist/src/server.js"]
