# syntax=docker/dockerfile:1
# Multi-stage build: a static sanad binary on a distroless, non-root base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/sanad ./cmd/sanad

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sanad /usr/local/bin/sanad
COPY --from=build /src/templates /etc/sanad/templates
USER nonroot:nonroot
WORKDIR /var/lib/sanad
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/sanad"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--data-dir", "/var/lib/sanad"]
