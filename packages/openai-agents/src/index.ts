export { ITEM_FORMAT, itemContent, itemRole } from './item-mapping.js';
