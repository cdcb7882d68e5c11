module example.com/pulumi-mcp-tunnels/sdk/go/mcp-tunnels

go 1.26.6

require github.com/pulumi/pulumi/sdk/v3 v3.274.1
