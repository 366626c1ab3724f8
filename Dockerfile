# syntax=docker/dockerfile:1
#
# Container image of cdt, the field-management server of Huế's community
# digital-technology teams.
#
#   docker build -t cdt:latest .
#   docker run --rm -p 8080:8080 -e CDT_MONGO_URI=mongodb://... cdt:latest
#   docker build --build-arg CDT_BUILD_TAGS= -t cdt:embedded .            # with the embedded database
#   docker run --rm -p 8080:8080 -v cdt-data:/data cdt:embedded           # its files in /data
#
# docker-compose.yml runs it next to a MongoDB replica set.

# ---- build stage ------------------------------------------------------------
FROM golang:1.26-bookworm AS build

WORKDIR /src

# Dependencies first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .

# Pure Go binary (the time zone database is compiled in through time/tzdata),
# so it runs on distroless/static. The image talks to MongoDB, so it is built
# without the embedded database (tag noembedded): no FerretDB, no SQLite,
# PostgreSQL or MySQL drivers, 31 MB instead of 46 MB. For an
# all-in-one image with the embedded database in /data:
#   docker build --build-arg CDT_BUILD_TAGS= -t cdt:embedded .
ARG CDT_BUILD_TAGS=noembedded
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w" -tags "$CDT_BUILD_TAGS" -o /out/cdt ./cmd/cdt

# The data directory of the embedded database, owned by distroless' nonroot
# user (uid/gid 65532); distroless has no shell to create it in the final stage.
RUN mkdir -p /out/data && chown 65532:65532 /out/data

# ---- final stage ------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/cdt /cdt
COPY --from=build --chown=65532:65532 /out/data /data

# Listen on all interfaces inside the container; the embedded database (used
# when CDT_MONGO_URI is empty) keeps its files in the /data volume.
ENV CDT_ADDR=0.0.0.0:8080 \
    CDT_DATA_DIR=/data

VOLUME /data
EXPOSE 8080

# No HEALTHCHECK: distroless has no shell and no curl. Probe GET /healthz
# (liveness) and GET /readyz (database reachable) from outside instead.

USER nonroot:nonroot

# SIGTERM (docker stop) shuts the server down cleanly with exit status 0.
ENTRYPOINT ["/cdt"]
CMD ["serve"]
