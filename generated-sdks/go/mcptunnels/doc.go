// Pulumi dynamic-provider resources for Anthropic MCP tunnels: tunnels, CA certificates, tunnel tokens and WIF bindings as code.
package mcptunnels
