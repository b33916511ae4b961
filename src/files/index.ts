export { FileJail, UPLOAD_TEMP_PREFIX, type FileEntry, type FileJailOptions, type WriteOptions } from './file-jail.js';
export { FileTransferError, splitName, MAX_NAME_BYTES, MAX_PATH_BYTES, type FileErrorCode } from './file-name.js';
