import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { documentBodyContent } from './api-body-content.decorator';
import { documentPublicOperations } from './api-public.decorator';
import { documentBodyErrors } from './document-body-errors';
import { ErrorResponse } from './error-response.dto';

/** Where Swagger UI lives; its assets are below it and the documents beside it (`/docs-json`). */
export const DOCS_PATH = '/docs';

/** Whether a route URL belongs to the docs (the page, its assets, the OpenAPI documents). */
export function isDocsRoute(url: string): boolean {
  return url === DOCS_PATH || url.startsWith(`${DOCS_PATH}/`) || url.startsWith(`${DOCS_PATH}-`);
}

/**
 * Swagger UI at /docs, the OpenAPI 3 document at /docs-json, unless `enabled` is false
 * (DOCS_ENABLED; off in production by default): then those paths are unknown routes (404).
 */
export function setupSwagger(app: INestApplication, { sandbox, enabled }: { sandbox: boolean; enabled: boolean }): void {
  if (!enabled) return;
  const builder = new DocumentBuilder()
    .setTitle('WeChat Mini Program login')
    .setDescription(
      [
        'Turns `wx.login` codes into users and bearer tokens. Every route needs `Authorization: Bearer <token>` unless it is marked public.',
        'Errors are always `{ statusCode, code, message }`.',
        sandbox ? '**Sandbox mode**: no real WeChat is reached. Try it: `POST /sandbox/wx-login` → paste the answer into `POST /wechat/login` → **Authorize** with the token → `GET /users/me`.' : '',
      ].join('\n\n'),
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The `token` of POST /wechat/login' })
    // Every route is guarded unless `@Public()`, as the global guard has it; public ones say `security: []`.
    .addSecurityRequirements('bearer');
  const config = builder.build();
  // No `servers`: clients use the document's own origin (an empty list is invalid to some linters).
  delete config.servers;
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponse] });
  documentPublicOperations(document);
  documentBodyContent(document);
  documentBodyErrors(document);
  SwaggerModule.setup(DOCS_PATH.slice(1), app, document, {
    jsonDocumentUrl: `${DOCS_PATH.slice(1)}-json`,
    yamlDocumentUrl: `${DOCS_PATH.slice(1)}-yaml`,
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
    customSiteTitle: 'WeChat login API',
  });
}
