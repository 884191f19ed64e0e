//! Gifts' pictures: bytes from an upload or a shop, checked to be an image
//! by what they hold (never by a name or a header), and re-encoded in the
//! two sizes the pages show.
//!
//! Re-encoding is the point, not a side effect: what is served was written
//! by the `image` crate from pixels, so a file that only claims to be a
//! picture (HTML, a script, a polyglot) never reaches a visitor, and what
//! the original carried besides its pixels (a phone's location, a camera's
//! serial number) is gone.

use std::io::Cursor;

use image::{
    codecs::jpeg::JpegEncoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, Rgb,
    RgbImage,
};

/// Uploads larger than this are refused (413).
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

/// The longest side of the list's thumbnail, in pixels: twice the 64 CSS
/// pixels it is shown at, for sharp phone screens.
pub const THUMB_SIDE: u32 = 128;

/// The longest side of the picture on the edit form.
pub const MEDIUM_SIDE: u32 = 640;

/// A side longer than this is refused before decoding: a small file can
/// declare a huge canvas (a "decompression bomb").
const MAX_SIDE: u32 = 12_000;

/// Memory the decoder may take for one picture.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

const JPEG_QUALITY: u8 = 82;

/// A picture in the sizes the pages show, as JPEG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub thumb: Vec<u8>,
    pub medium: Vec<u8>,
}

impl Prepared {
    /// Bytes held, for caches that count them.
    pub fn weight(&self) -> usize {
        self.thumb.len() + self.medium.len()
    }
}

/// Why bytes did not make a picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PictureProblem {
    #[error("this is not a JPEG, PNG or WebP picture")]
    NotAPicture,
    #[error("this picture is too large: at most 5 MB and 12000 pixels a side")]
    TooLarge,
}

/// Checks `bytes` are a JPEG, PNG or WebP picture and writes its two sizes,
/// upright (a phone's EXIF orientation applied) and on white where it was
/// transparent (JPEG has no transparency). CPU-bound: call it off the
/// async threads.
pub fn prepare(bytes: &[u8]) -> Result<Prepared, PictureProblem> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(PictureProblem::TooLarge);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| PictureProblem::NotAPicture)?;
    if !matches!(
        reader.format(),
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)
    ) {
        return Err(PictureProblem::NotAPicture);
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|_| PictureProblem::NotAPicture)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(PictureProblem::NotAPicture);
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(PictureProblem::TooLarge);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    decoder
        .set_limits(limits)
        .map_err(|_| PictureProblem::TooLarge)?;
    // A broken orientation tag is no reason to refuse the picture.
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|error| match error {
        image::ImageError::Limits(_) => PictureProblem::TooLarge,
        _ => PictureProblem::NotAPicture,
    })?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    let image = on_white(image);
    Ok(Prepared {
        thumb: jpeg(&shrunk(&image, THUMB_SIDE))?,
        medium: jpeg(&shrunk(&image, MEDIUM_SIDE))?,
    })
}

/// The picture at most `side` pixels on its longer side, keeping its
/// shape; never enlarged.
fn shrunk(image: &DynamicImage, side: u32) -> DynamicImage {
    if image.width() <= side && image.height() <= side {
        image.clone()
    } else {
        image.resize(side, side, image::imageops::FilterType::CatmullRom)
    }
}

/// Transparent parts on white, as a shop shows them on its page.
fn on_white(image: DynamicImage) -> DynamicImage {
    if !image.color().has_alpha() {
        return DynamicImage::ImageRgb8(image.into_rgb8());
    }
    let rgba = image.into_rgba8();
    let flat = RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |channel: u8| {
            let channel = u32::from(channel);
            let alpha = u32::from(a);
            // alpha * channel + (255 - alpha) * 255, rounded, over 255.
            ((channel * alpha + 255 * (255 - alpha) + 127) / 255) as u8
        };
        Rgb([over(r), over(g), over(b)])
    });
    DynamicImage::ImageRgb8(flat)
}

fn jpeg(image: &DynamicImage) -> Result<Vec<u8>, PictureProblem> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(image)
        .map_err(|_| PictureProblem::NotAPicture)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use image::{ImageEncoder, Rgba, RgbaImage};

    use super::*;

    fn png(width: u32, height: u32, pixel: [u8; 4]) -> Vec<u8> {
        let image = RgbaImage::from_pixel(width, height, Rgba(pixel));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                image.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
        out
    }

    /// PNG's chunk checksum (CRC-32, as in zlib), bit by bit: a test needs
    /// one header's worth.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn size_of(jpeg: &[u8]) -> (u32, u32) {
        let image = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).unwrap();
        (image.width(), image.height())
    }

    #[test]
    fn a_large_picture_gets_both_sizes_keeping_its_shape() {
        let prepared = prepare(&png(1600, 800, [200, 30, 30, 255])).unwrap();
        assert_eq!(size_of(&prepared.thumb), (128, 64));
        assert_eq!(size_of(&prepared.medium), (640, 320));
    }

    #[test]
    fn a_small_picture_is_never_enlarged() {
        let prepared = prepare(&png(50, 100, [0, 0, 0, 255])).unwrap();
        assert_eq!(size_of(&prepared.medium), (50, 100));
        assert_eq!(size_of(&prepared.thumb), (50, 100));
    }

    #[test]
    fn transparency_becomes_white() {
        let prepared = prepare(&png(10, 10, [0, 0, 0, 0])).unwrap();
        let image = image::load_from_memory(&prepared.medium)
            .unwrap()
            .into_rgb8();
        let Rgb([r, g, b]) = *image.get_pixel(5, 5);
        assert!(r > 245 && g > 245 && b > 245, "{r} {g} {b}");
    }

    #[test]
    fn what_is_not_a_picture_is_refused() {
        for bytes in [
            &b"<!doctype html><title>Nope</title>"[..],
            b"GIF89a\x01\x00\x01\x00",
            b"",
            // A PNG signature with nothing after it.
            b"\x89PNG\r\n\x1a\n",
        ] {
            assert_eq!(prepare(bytes), Err(PictureProblem::NotAPicture));
        }
    }

    #[test]
    fn a_huge_canvas_is_refused_before_it_is_decoded() {
        // A real PNG whose header says 20000 x 20000 pixels (its checksum
        // made right, so only the size is wrong).
        let mut bytes = png(1, 1, [0, 0, 0, 255]);
        bytes[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(prepare(&bytes), Err(PictureProblem::TooLarge));
    }

    #[test]
    fn more_than_five_megabytes_is_refused() {
        assert_eq!(
            prepare(&vec![0; MAX_UPLOAD_BYTES + 1]),
            Err(PictureProblem::TooLarge)
        );
    }
}
