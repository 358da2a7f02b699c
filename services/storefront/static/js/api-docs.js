// The interactive API docs: Swagger UI (served by the storefront itself, static/swagger-ui/) on the
// shop's own OpenAPI document. "Try it out" calls the API on this origin.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: true,
});
