export { FluxSession, type FluxSessionOptions } from './flux-session.js';
export { ITEM_FORMAT, itemContent, itemRole } from './item-mapping.js';
export { toItem, toNewMessage } from './stored-item.js';
