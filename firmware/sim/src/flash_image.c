/* Minimal ELF32 little-endian program-header reader for AVR images. */
#include "flash_image.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define AVR_DATA_SPACE 0x800000u /* load addresses from here on are RAM/EEPROM/fuses */

int flash_image_load(avr_t *avr, const char *path, char *err, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, n, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	Elf32_Ehdr eh;
	int rc = -1;
	if (fread(&eh, sizeof eh, 1, f) != 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
		eh.e_ident[EI_CLASS] != ELFCLASS32 || eh.e_machine != EM_AVR) {
		snprintf(err, n, "%s is not an AVR ELF32 file", path);
		goto done;
	}
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;
		if (fseek(f, eh.e_phoff + (long)i * eh.e_phentsize, SEEK_SET) || fread(&ph, sizeof ph, 1, f) != 1) {
			snprintf(err, n, "%s: truncated program header %d", path, i);
			goto done;
		}
		if (ph.p_type != PT_LOAD || !ph.p_filesz || ph.p_paddr >= AVR_DATA_SPACE)
			continue;
		if (ph.p_paddr + ph.p_filesz > avr->flashend + 1u) {
			snprintf(err, n, "%s: segment at 0x%x (%u bytes) does not fit the %s's %u bytes of flash", path,
				ph.p_paddr, ph.p_filesz, avr->mmcu, avr->flashend + 1u);
			goto done;
		}
		if (fseek(f, ph.p_offset, SEEK_SET) || fread(avr->flash + ph.p_paddr, ph.p_filesz, 1, f) != 1) {
			snprintf(err, n, "%s: truncated segment at 0x%x", path, ph.p_paddr);
			goto done;
		}
	}
	rc = 0;
done:
	fclose(f);
	return rc;
}
