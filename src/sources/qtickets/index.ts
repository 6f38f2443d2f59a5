/**
 * QTickets REST v1 (https://qtickets.help/article/rest-api/): the source of ticket sales.
 */
export { createQticketsClient, type QticketsClientOptions } from './client.js';
export { localizedText, phpAssoc, phpFlag, utmTags, type PhpAssoc } from './polymorphism.js';
