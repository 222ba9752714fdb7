// Test helper, for `node --import`: prints "loaded @aws-sdk/client-ec2" on stderr when the process loads the EC2 client.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(
    "export async function resolve(specifier, context, next) { const r = await next(specifier, context); if (r.url.includes('/@aws-sdk/client-ec2/')) console.error('loaded @aws-sdk/client-ec2'); return r; }",
  )}`,
);
